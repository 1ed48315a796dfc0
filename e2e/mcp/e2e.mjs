// End-to-end test of `agent-exec mcp` with the official TypeScript MCP SDK:
// spawns the built binary over stdio (StdioClientTransport) with a temporary
// AGENT_EXEC_ROOT and exercises the tools the way an MCP host does.
//
// Usage: node e2e.mjs <path-to-agent-exec-binary>
// Exits 0 when every check passes, 1 on any mismatch.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = process.argv[2];
if (!bin) {
  console.error("usage: node e2e.mjs <path-to-agent-exec-binary>");
  process.exit(2);
}

const dir = realpathSync(mkdtempSync(join(tmpdir(), "agent-exec-mcp-e2e-")));
const root = join(dir, "jobs");

function log(...args) {
  console.error("[e2e]", ...args);
}

// envelope returns a tool result's structuredContent after checking the
// invariants every result has: one text item holding the same JSON, and
// isError exactly when ok is false.
function envelope(name, res) {
  assert.equal(res.content.length, 1, `${name}: one content item`);
  assert.equal(res.content[0].type, "text", `${name}: text content`);
  const sc = res.structuredContent;
  assert.ok(sc && typeof sc === "object", `${name}: structuredContent present`);
  assert.deepEqual(JSON.parse(res.content[0].text), sc, `${name}: text equals structuredContent`);
  assert.equal(sc.schema_version, "0.1", `${name}: schema_version`);
  assert.equal(res.isError, sc.ok === false, `${name}: isError iff ok is false`);
  return sc;
}

async function call(client, name, args) {
  const res = await client.callTool({ name, arguments: args });
  return envelope(name, res);
}

async function main() {
  const transport = new StdioClientTransport({
    command: resolve(bin),
    args: ["mcp"],
    cwd: dir,
    env: { ...process.env, AGENT_EXEC_ROOT: root },
    stderr: "inherit",
  });
  const client = new Client({ name: "agent-exec-e2e", version: "1.0.0" });
  await client.connect(transport);
  try {
    const info = client.getServerVersion();
    assert.equal(info.name, "agent-exec", "server name");
    log("connected to", info.name, info.version);

    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    // The six tools of SPEC §6.2, plus whatever v1.1 added (wait_many, …).
    for (const n of ["kill", "list", "run", "status", "tail", "wait"]) {
      assert.ok(names.includes(n), `tool ${n} offered`);
    }
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", `${t.name}: object schema`);
      assert.equal(t.inputSchema.additionalProperties, false, `${t.name}: additionalProperties false`);
      assert.ok(t.description, `${t.name}: description`);
    }
    const runProps = Object.keys(tools.find((t) => t.name === "run").inputSchema.properties);
    for (const p of ["agent_env", "command", "cwd", "env", "ensure", "kill_after_ms", "max_bytes", "name", "render",
      "settle_ms", "stdin", "stdin_file", "tags", "tail_lines", "timeout_ms", "until_ms"]) {
      assert.ok(runProps.includes(p), `run property ${p}`);
    }
    log("tools:", names.join(", "));

    const run = await call(client, "run", { command: ["sh", "-c", "echo hi; sleep 1; echo done"], until_ms: 100 });
    assert.equal(run.ok, true, "run ok");
    assert.equal(run.type, "run", "run type");
    assert.match(run.job_id, /^[0-9A-Z]{26}$/, "run job_id");
    assert.equal(run.state, "running", "run returns while the job runs");
    assert.ok(run.snapshot, "run snapshot");
    log("run:", run.job_id, run.state);

    let wait;
    for (let i = 0; i < 5; i++) {
      wait = await call(client, "wait", { job_id: run.job_id, until_ms: 20000 });
      assert.equal(wait.type, "wait", "wait type");
      if (wait.state !== "running") break;
    }
    assert.equal(wait.state, "exited", "wait until exited");
    assert.equal(wait.exit_code, 0, "exit code");
    log("wait:", wait.state, wait.exit_code);

    const tail = await call(client, "tail", { job_id: run.job_id });
    assert.equal(tail.type, "tail", "tail type");
    assert.ok(tail.stdout_tail.includes("done"), `stdout_tail has "done": ${JSON.stringify(tail.stdout_tail)}`);
    assert.equal(tail.stdout_tail, "hi\ndone", "stdout_tail");
    log("tail:", JSON.stringify(tail.stdout_tail));

    const status = await call(client, "status", { job_id: run.job_id });
    assert.equal(status.state, "exited", "status state");

    const missing = await client.callTool({ name: "status", arguments: { job_id: "NOPE" } });
    assert.equal(missing.isError, true, "status of an unknown id is an error result");
    const err = envelope("status", missing);
    assert.equal(err.ok, false, "unknown id: ok false");
    assert.equal(err.type, "error", "unknown id: type error");
    assert.equal(err.error.code, "job_not_found", "unknown id: job_not_found");
    log("unknown id:", err.error.code);

    // Arguments that violate the schema never reach the tool: either a
    // JSON-RPC error or an error result, and the server keeps serving.
    let rejected = false;
    try {
      const bad = await client.callTool({ name: "run", arguments: { command: "echo hi", bogus: 1 } });
      rejected = bad.isError === true;
    } catch {
      rejected = true;
    }
    assert.ok(rejected, "schema violation rejected");
    const list = await call(client, "list", { all: true });
    assert.equal(list.type, "list", "list type");
    assert.equal(list.jobs.length, 1, "no job created by the rejected call");
    log("schema violation rejected; list has", list.jobs.length, "job");
  } finally {
    await client.close();
  }
}

try {
  await main();
  log("PASS");
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
} catch (e) {
  log("FAIL:", e && e.message ? e.message : e);
  process.exit(1);
}
