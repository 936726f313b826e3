// A stand-in Maskinporten for the naive baseline, in its own process: answers every POST with one fixed token body
// (BENCH_TOKEN_BODY) without checking the grant, so the naive side pays only its own signing and HTTP.
import { createServer } from "node:http";

const body = process.env.BENCH_TOKEN_BODY ?? "";
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
process.on("disconnect", () => server.close(() => process.exit(0)));
