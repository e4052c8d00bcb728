import { request } from 'node:http'

/** POSTs a JSON body to `url` + `path` and reads the answer to its end, whatever its status. */
export function post(url: string, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve())
    })
    req.on('error', reject)
    req.end(body)
  })
}
