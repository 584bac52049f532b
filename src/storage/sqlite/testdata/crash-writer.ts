/**
 * @module Test fixture for the durability test: writes keys forever with 50 concurrent
 * writers and prints each key on stdout once its write is acknowledged. The parent kills it
 * with SIGKILL mid-stream and checks that every printed key is in the database.
 */
import { openSqlite } from "../sqlite-backend.ts";

const path = process.argv[2];
if (!path) throw new Error("usage: crash-writer DBPATH");
const b = openSqlite(path);
let next = 0;
async function writer(): Promise<void> {
  for (;;) {
    const key = `/crash/${next++}`;
    await b.create(key, JSON.stringify({ n: key }));
    process.stdout.write(`${key}\n`);
  }
}
for (let i = 0; i < 50; i++) void writer();
