// Parse each AsyncAPI document given on the command line with the official parser (@asyncapi/parser) and
// print one JSON line per document: {"file", "errors": [...], "warnings": [...]}. Exit 1 if any has errors.
import { readFile } from 'node:fs/promises';
import { Parser, fromFile } from '@asyncapi/parser';

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const pick = (severity) =>
    diagnostics
      .filter((d) => d.severity === severity)
      .map((d) => ({ code: d.code, message: d.message, path: d.path.join('/') }));
  const errors = pick(0);
  if (!document) failed = true;
  if (errors.length) failed = true;
  console.log(JSON.stringify({ file, parsed: Boolean(document), errors, warnings: pick(1) }));
}
process.exit(failed ? 1 : 0);
