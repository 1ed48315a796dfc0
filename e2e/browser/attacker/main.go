// Command attacker serves the hostile page of the browser CSRF check
// (e2e/browser/run.sh): a page on another loopback origin that tries to
// start a job on an agent-exec server the way a malicious web site would,
// with requests a browser sends without a CORS preflight.
//
// Usage: attacker -target http://127.0.0.1:PORT -marker PATH
//
// It prints its own base URL on the first line of stdout, then serves until
// killed. The page logs each attempt into <pre id="log"> and finally writes
// "attacks-finished", which run.sh reads from chromium's --dump-dom output.
package main

import (
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>attacker</title></head>
<body>
<pre id="log"></pre>
<iframe name="sink1" id="sink1"></iframe>
<iframe name="sink2" id="sink2"></iframe>
<form id="plain" method="POST" enctype="text/plain" action="{{.Target}}/exec" target="sink1">
<input name='{"command":["touch {{.Marker}}-form-plain"],"x":"' value='"}'>
</form>
<form id="urlenc" method="POST" action="{{.Target}}/exec" target="sink2">
<input name='{"command":["touch {{.Marker}}-form-urlencoded"],"x":"' value='"}'>
</form>
<script>
const target = {{.Target}};
const marker = {{.Marker}};
const log = (s) => { document.getElementById("log").textContent += s + "\n"; };
const body = (tag) => JSON.stringify({command: ["touch " + marker + "-" + tag], wait: false});
const withTimeout = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r("timeout"), ms))]);

function submitInto(formId, frameId) {
  return withTimeout(new Promise((resolve) => {
    document.getElementById(frameId).addEventListener("load", () => resolve("loaded"), {once: true});
    document.getElementById(formId).submit();
  }), 5000);
}

async function attempt(name, f) {
  try {
    log(name + ": " + await withTimeout(f(), 5000));
  } catch (e) {
    log(name + ": rejected " + e);
  }
}

async function main() {
  // 1. The classic CSRF fetch: no-cors, text/plain body, no preflight.
  await attempt("fetch-no-cors-text", async () => {
    const r = await fetch(target + "/exec", {method: "POST", mode: "no-cors",
      headers: {"Content-Type": "text/plain"}, body: body("fetch-no-cors-text")});
    return "response type " + r.type;
  });
  // 2. no-cors with a JSON-typed Blob: browsers drop the non-safelisted
  //    Content-Type, but the Origin check must refuse it anyway.
  await attempt("fetch-no-cors-blob", async () => {
    const r = await fetch(target + "/exec", {method: "POST", mode: "no-cors",
      body: new Blob([body("fetch-no-cors-blob")], {type: "application/json"})});
    return "response type " + r.type;
  });
  // 3. A CORS fetch with application/json: the preflight must be refused.
  await attempt("fetch-cors-json", async () => {
    const r = await fetch(target + "/exec", {method: "POST", mode: "cors",
      headers: {"Content-Type": "application/json"}, body: body("fetch-cors-json")});
    return "status " + r.status;
  });
  // 4. sendBeacon with a text/plain string.
  await attempt("beacon", async () => String(navigator.sendBeacon(target + "/exec", body("beacon"))));
  // 5. and 6. Form posts, which need no JavaScript at all.
  await attempt("form-text-plain", () => submitInto("plain", "sink1"));
  await attempt("form-urlencoded", () => submitInto("urlenc", "sink2"));
  log("attacks-finished");
}
main();
</script>
</body></html>
`))

func main() {
	target := flag.String("target", "", "base URL of the agent-exec server under attack")
	marker := flag.String("marker", "/tmp/agent-exec-csrf", "path prefix the attack jobs would create")
	addr := flag.String("addr", "127.0.0.2:0", "listen address (falls back to 127.0.0.1:0)")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "usage: attacker -target URL [-marker PATH] [-addr HOST:PORT]")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		// Some systems route only 127.0.0.1; another port is still another
		// origin.
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		page.Execute(w, struct{ Target, Marker string }{*target, *marker})
	})
	log.Fatal(http.Serve(ln, h))
}
