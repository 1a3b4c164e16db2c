"""Open a rendered site in headless Chromium: the home page, the results overview, every experiment's results page and
the performance page. Checks that each results page has a table (and the experiment pages images), that every local
link and image (href/src) of those pages answers 200 from a web server, and saves screenshots.

    python .ci/browser_check.py SITE_DIR OUT_DIR      # SITE_DIR from `orderviz site --out SITE_DIR`

Prints what it checked, the screenshots' paths and sizes; exits non-zero when a check fails.
"""
import sys, shutil, struct, tempfile, threading, subprocess, functools, time
from pathlib import Path
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from urllib.parse import urljoin, urlparse
from urllib.request import urlopen
from urllib.error import HTTPError

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--hide-scrollbars']

class Tags(HTMLParser):
    "Start tags of a DOM, with their attributes."
    def __init__(self): super().__init__(); self.tags = []
    def handle_starttag(self, tag, attrs): self.tags.append((tag, dict(attrs)))

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError): super().handle_error(request, client_address)   # a browser may hang up early

def chromium(*args, timeout=120)->str:
    "Run headless Chromium with a new, empty profile; its stdout."
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if exe is None: raise SystemExit('FAILED: no chromium on PATH (apt-get install -y chromium)')
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run([exe, *FLAGS, f'--user-data-dir={profile}', *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode: raise SystemExit(f'FAILED: chromium {" ".join(args)} exited {p.returncode}: {p.stderr[-2000:]}')
    return p.stdout

def status(url:str)->int:
    try:
        with urlopen(url, timeout=30) as r: return r.status
    except HTTPError as e: return e.code

def png_size(p:Path)->tuple:
    w, h = struct.unpack('>II', p.read_bytes()[16:24])
    return w, h

def main(site:Path, out:Path):
    out.mkdir(parents=True, exist_ok=True)
    srv = Server(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{srv.server_address[1]}/'
    print(f'serving {site} at {base}', flush=True)
    experiments = sorted(p.name for p in (site/'results').glob('*.html') if p.name not in ('index.html', 'performance.html'))
    pages = ['index.html', 'results/index.html'] + [f'results/{e}' for e in experiments] + ['results/performance.html']
    failed, checked = [], set()
    for pg in pages:
        t = time.time()
        tags = Tags(); tags.feed(chromium('--dump-dom', base + pg)); tags.close()
        names = [x for x, _ in tags.tags]
        local = {urljoin(base + pg, a.get(k)) for _, a in tags.tags for k in ('href', 'src') if a.get(k)}
        local = {u.split('#')[0] for u in local if urlparse(u).netloc == urlparse(base).netloc}
        bad = sorted(u for u in local - checked if status(u) != 200)
        checked |= local
        need = (['table'] if pg.startswith('results/') else []) + (['img'] if pg.startswith('results/') and pg[8:] in experiments else [])
        missing = [n for n in need if n not in names]
        print(f'{"ok" if not bad and not missing else "FAILED"}: {pg}: {names.count("table")} tables, {names.count("img")} images, '
              f'{len(local)} local links, {len(bad)} broken ({time.time() - t:.1f} s)', flush=True)
        for u in bad: print(f'    broken: {u}', flush=True)
        if missing: print(f'    missing: {", ".join(missing)}', flush=True)
        if bad or missing: failed.append(pg)
    for pg in ['results/index.html'] + [f'results/{e}' for e in experiments[:1]]:
        shot = out/(pg.replace('/', '_').replace('.html', '') + '.png')
        chromium(f'--screenshot={shot}', '--window-size=1400,1600', base + pg)
        w, h = png_size(shot)
        print(f'screenshot of {pg}: {shot} ({shot.stat().st_size / 1024:.0f} KiB, {w}x{h} px)', flush=True)
    srv.shutdown()
    print(f'browser check: {len(pages)} pages, {len(checked)} distinct local links; ' + ('all passed' if not failed else f'FAILED on {", ".join(failed)}'), flush=True)
    return 1 if failed else 0

if __name__ == '__main__':
    if len(sys.argv) != 3: raise SystemExit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
