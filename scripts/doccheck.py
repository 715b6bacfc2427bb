#!/usr/bin/env python3
"""Checks the Go code in README.md and docs/*.md against the real API.

Each ```go block is gofmt-checked as written, then:
  - a block starting with "package main" is built as a program, and run
    too when preceded by <!-- run ... --> (it must exit 0: it starts its
    own wxpaytest emulator);
  - a block starting with another package clause is a test file: it is
    written alone to a package of its own as doc_test.go and run with
    go test (it must hold a Test or Example function);
  - a block preceded by <!-- compile-only ... --> is compiled inside a
    function taking (ctx context.Context, client *wxpay.Client) but not run;
  - a block preceded by <!-- not-compiled ... --> is skipped (a listing of
    alternatives, or a fragment of a Config literal);
  - any other block is a fragment: compiled the same way and run against a
    fresh wxpaytest emulator, and it must return nil.
Run from anywhere: python3 scripts/doccheck.py
"""
import glob, os, re, shutil, subprocess, sys, tempfile

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
files = [os.path.join(repo, 'README.md')] + sorted(glob.glob(os.path.join(repo, 'docs', '*.md')))

frags, conly, progs, tests, skipped = [], [], [], [], 0
runs = set()  # names of the programs to run
for md in files:
    text = open(md, encoding='utf-8').read()
    rel = os.path.relpath(md, repo)
    for m in re.finditer(r'^```go\n(.*?)^```', text, re.S | re.M):
        code = m.group(1)
        line = text[:m.start()].count('\n') + 1
        name = re.sub(r'\W', '_', rel[:-3]) + f'_{line}'
        prev = text[:m.start()].rstrip().splitlines()
        before = prev[-1] if prev else ''
        where = f'{rel}:{line}'
        if 'not-compiled' in before:
            skipped += 1
        elif code.lstrip().startswith('package main'):
            progs.append((name, code, where))
            if before.startswith('<!-- run'):
                runs.add(name)
        elif code.lstrip().startswith('package '):
            if not re.search(r'^func (Test|Example)', code, re.M):
                print(f'{where}: a test file without a Test or Example function')
                sys.exit(1)
            tests.append((name, code, where))
        elif 'compile-only' in before:
            conly.append((name, code, where))
        else:
            frags.append((name, code, where))

bad = 0
for name, code, where in frags + conly + progs + tests:
    if code.lstrip().startswith('package '):
        wrapped = code
    else:
        wrapped = 'package p\n\nfunc f() {\n' + ''.join(('\t' + l if l.strip() else l) for l in code.splitlines(True)) + '}\n'
    out = subprocess.run(['gofmt'], input=wrapped, capture_output=True, text=True)
    if out.returncode != 0:
        print(f'{where}: gofmt: {out.stderr.strip()}')
        bad += 1
    elif out.stdout != wrapped:
        print(f'{where}: not gofmt-formatted')
        bad += 1
if bad:
    sys.exit(1)

work = tempfile.mkdtemp(prefix='wxpay-doccheck-')
try:
    with open(os.path.join(work, 'go.mod'), 'w') as f:
        f.write(f'module doccheck\n\ngo 1.26\n\nrequire github.com/wxpay-chain/wxpay v0.0.0\n\nreplace github.com/wxpay-chain/wxpay => {repo}\n')
    shutil.copy(os.path.join(repo, 'go.sum'), os.path.join(work, 'go.sum'))
    imports = ['bytes', 'context', 'crypto/rsa', 'encoding/json', 'errors', 'fmt', 'log', 'net/http', 'os', 'strings', 'time',
               'github.com/tidwall/gjson', 'github.com/wxpay-chain/wxpay', 'github.com/wxpay-chain/wxpay/catalog', 'github.com/wxpay-chain/wxpay/rsaenc',
               'github.com/wxpay-chain/wxpay/aesgcm', 'github.com/wxpay-chain/wxpay/verifier',
               'github.com/wxpay-chain/wxpay/wxpaytest']
    uses = ['bytes.NewReader', 'context.Background', 'rsa.EncryptOAEP', 'json.Marshal', 'errors.As', 'fmt.Println', 'log.Println',
            'http.MethodGet', 'os.Exit', 'strings.Contains', 'time.Second', 'gjson.Parse', 'wxpay.New', 'catalog.Checker', 'rsaenc.Encrypt',
            'aesgcm.Decrypt', 'verifier.VerifySignature', 'wxpaytest.NewServer']
    src = ['package main', '', 'import (']
    src += [f'\t"{p}"' for p in imports]
    src += [')', '']
    src += [f'var _ = {u}' for u in uses]
    for name, code, where in frags + conly:
        src.append(f'\n// {where}\nfunc {name}(ctx context.Context, client *wxpay.Client) error {{\n_, _ = ctx, client\n{code}\nreturn nil\n}}')
    src.append('\nfunc main() {\n\tfailed := 0')
    for name, code, where in frags:
        src.append(f'''\tfunc() {{
\t\tsrv := wxpaytest.NewServer()
\t\tdefer srv.Close()
\t\tclient, err := srv.Client()
\t\tif err != nil {{
\t\t\tpanic(err)
\t\t}}
\t\tif err := {name}(context.Background(), client); err != nil {{
\t\t\tfmt.Fprintln(os.Stderr, "FAIL {where}:", err) // stdout, the snippets' output, is discarded
\t\t\tfailed++
\t\t}}
\t}}()''')
    src.append('\tif failed > 0 {\n\t\tos.Exit(1)\n\t}\n}')
    os.makedirs(os.path.join(work, 'frags'))
    with open(os.path.join(work, 'frags', 'main.go'), 'w') as f:
        f.write('\n'.join(src) + '\n')
    for name, code, where in progs:
        os.makedirs(os.path.join(work, name))
        with open(os.path.join(work, name, 'main.go'), 'w') as f:
            f.write(f'// {where}\n' + code)
    for name, code, where in tests:
        os.makedirs(os.path.join(work, 'tests', name))
        with open(os.path.join(work, 'tests', name, 'doc_test.go'), 'w') as f:
            f.write(f'// {where}\n' + code)
    env = dict(os.environ, GOFLAGS='-mod=mod')
    r = subprocess.run(['go', 'vet', './...'], cwd=work, env=env)
    if r.returncode != 0:
        print('doccheck: the snippets do not compile (see above; the function names give file and line)')
        sys.exit(1)
    r = subprocess.run(['go', 'run', './frags'], cwd=work, env=env, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit(1)
    for name, code, where in progs:
        if name in runs:
            r = subprocess.run(['go', 'run', './' + name], cwd=work, env=env, stdout=subprocess.DEVNULL)
            if r.returncode != 0:
                print(f'FAIL {where}: the program exited with status {r.returncode}')
                sys.exit(1)
    if tests:
        r = subprocess.run(['go', 'test', '-count=1'] + [f'./tests/{name}' for name, _, _ in tests],
                           cwd=work, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            print('doccheck: a test file of the docs fails (the package names give file and line)')
            sys.exit(1)
    print(f'doccheck: {len(frags)} fragments ran, {len(conly)} compiled only, {len(progs)} programs built '
          f'({len(runs)} of them run), {len(tests)} test files passed, {skipped} skipped')
finally:
    shutil.rmtree(work, ignore_errors=True)
