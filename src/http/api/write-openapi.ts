/** Writes openapi/openapi.json (npm run openapi); a test fails while the committed file differs. */
import { writeFileSync } from 'node:fs'
import { openApiDocument } from './openapi.js'

export const openApiText = () => JSON.stringify(openApiDocument(), null, 2) + '\n'

if (process.argv[2] === '--write') writeFileSync(process.argv[3] ?? 'openapi/openapi.json', openApiText())
