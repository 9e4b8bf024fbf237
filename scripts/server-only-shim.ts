// Lets a plain Node process (tsx scripts, test workers, Playwright specs) load lib/: "server-only" throws outside Next's
// react-server condition, so an empty module is cached in its place. Import it before any lib/ module.
import Module, { createRequire } from "node:module";

const require = createRequire(__filename);
const marker = require.resolve("server-only");
const empty = new Module(marker);
empty.filename = marker;
empty.loaded = true;
require.cache[marker] = empty;
