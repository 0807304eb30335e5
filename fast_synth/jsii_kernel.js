// Runs the jsii kernel (argv[2]: jsii's lib/program.js) in this node process; started by
// jsii_node.sh in place of jsii's stock runtime, which keeps the kernel in a second node process
// and relays every message. What that relay did is done here:
//   - the kernel reads requests from fd 3 (jsii_node.sh makes it a copy of stdin) and writes
//     responses to fd 3: those writes go to stdout, where Python reads them;
//   - anything else the kernel prints (console, warnings, JSII_DEBUG) goes to stderr as the
//     relay's JSON lines, {"stdout": <base64>} or {"stderr": <base64>}, which Python unwraps.
"use strict";

const fs = require("fs");
const { Writable } = require("stream");

const CHANNEL_FD = 3; // lib/program.js: new SyncStdio({ readFD: 3, writeFD: 3, errorFD: 2 })
const writeSync = fs.writeSync.bind(fs);

function writeAll(fd, buffer) {
  for (let done = 0; done < buffer.length; ) {
    done += writeSync(fd, buffer, done);
  }
}

function relayLine(stream, chunk) {
  const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
  writeAll(2, Buffer.from(`${JSON.stringify({ [stream]: data.toString("base64") })}\n`));
}

// The kernel's SyncStdio writes with fs.writeSync(fd, buffer, offset).
fs.writeSync = function writeSyncRelayed(fd, buffer, offset = 0, ...rest) {
  if (fd === CHANNEL_FD) {
    return writeSync(1, buffer, offset, ...rest);
  }
  if (fd === 2 && Buffer.isBuffer(buffer) && rest.length === 0) {
    relayLine("stderr", buffer.subarray(offset));
    return buffer.length - offset;
  }
  return writeSync(fd, buffer, offset, ...rest);
};

for (const stream of ["stdout", "stderr"]) {
  const relay = new Writable({
    write(chunk, _encoding, done) {
      relayLine(stream, chunk);
      done();
    },
  });
  Object.defineProperty(process, stream, { configurable: true, enumerable: true, get: () => relay });
}

require(process.argv[2]);
