// The official Bluesky PDS and a PLC directory in one process (@atproto/dev-env's
// TestNetworkNoAppView: state in SQLite files under PDS_STATE, no PostgreSQL, no AppView), on
// 127.0.0.1 only, with the PDS's own rate limits on. Prints the PDS URL and version when it
// answers, writes the URL to $PDS_STATE/url, and stops on SIGTERM or SIGINT.
//
//   PDS_PORT (2583), PLC_PORT (2582), PDS_STATE (a folder of its own, emptied by the caller),
//   PDS_RATE_LIMIT_BYPASS_KEY: requests with this x-ratelimit-bypass header are not limited
//   (the tests' own set-up sends it; the plugin never does).
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'

const HOST = '127.0.0.1'

// The PDS and the PLC server call listen(port), which binds every interface: bind loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
    args.splice(1, 0, HOST)
  } else if (args[0] && typeof args[0] === 'object' && !args[0].host && !args[0].path) {
    args[0] = { ...args[0], host: HOST }
  }
  return listen.apply(this, args)
}

const { TestNetworkNoAppView } = await import('@atproto/dev-env')

const pdsPort = Number(process.env.PDS_PORT || 2583)
const plcPort = Number(process.env.PLC_PORT || 2582)
const state = path.resolve(process.env.PDS_STATE || 'pds-state')
await fs.mkdir(path.join(state, 'data'), { recursive: true })

const network = await TestNetworkNoAppView.create({
  plc: { port: plcPort },
  pds: {
    port: pdsPort,
    didPlcUrl: `http://${HOST}:${plcPort}`,
    dataDirectory: path.join(state, 'data'),
    blobstoreDiskLocation: path.join(state, 'blobs'),
    rateLimitsEnabled: true,
    rateLimitBypassKey: process.env.PDS_RATE_LIMIT_BYPASS_KEY || undefined,
  },
})

const url = `http://${HOST}:${network.pds.port}`
const health = await (await fetch(`${url}/xrpc/_health`)).json()
await fs.writeFile(path.join(state, 'url'), `${url}\n`)
console.log(
  `PDS ${health.version} on ${url} (PLC on http://${HOST}:${network.plc.port}, ` +
    `Node ${process.version}, rate limits on)`,
)

let stopping = false
const stop = async (signal) => {
  if (stopping) return
  stopping = true
  console.log(`PDS stopping (${signal})`)
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
