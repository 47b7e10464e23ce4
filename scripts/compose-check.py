#!/usr/bin/env python3
"""Check docker-compose.yml without a Docker engine: render it as `docker compose config`
would for one KAFKA_PORT (${VAR:-default} substitution, env_file then environment), turn
the KAFKA_* variables into the broker's settings as the apache/kafka image does
(KAFKA_FOO_BAR -> foo.bar), and compare them with scripts/broker.env, which native mode
uses. Also checks the listeners (one for clients on this machine at 127.0.0.1:KAFKA_PORT,
one that works inside the container at localhost:9092 on any KAFKA_PORT), the published
port, the container name and the healthcheck.

Usage: compose-check.py ROOT KAFKA_PORT   (prints the rendered settings; exit 1 on a problem)
"""
import os, re, sys
import yaml

root, port = sys.argv[1], sys.argv[2]
problems = []

def subst(text):
    env = {"KAFKA_PORT": port}
    def one(m):
        name, default = m.group(1), m.group(3)
        return env.get(name) or os.environ.get(name) or (default or "")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", one, text)

compose = yaml.safe_load(subst(open(os.path.join(root, "docker-compose.yml")).read()))
svc = compose["services"]["broker"]

def read_env(path):
    out = {}
    for line in open(os.path.join(root, path)):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out

broker_env = read_env("scripts/broker.env")
rendered = {}
for f in svc.get("env_file", []):
    rendered.update(read_env(f if isinstance(f, str) else f["path"]))
env = svc.get("environment", {})
if isinstance(env, list):
    env = dict(e.split("=", 1) for e in env)
for k, v in env.items():
    if k in broker_env and str(v) != broker_env[k]:
        problems.append(f"environment overrides {k}={v}, scripts/broker.env says {broker_env[k]}")
    rendered[k] = str(v)

def prop(k):  # the image's rule: KAFKA_ dropped, ___ -> -, __ -> _, _ -> .
    return k[6:].replace("___", "-").replace("__", "@").replace("_", ".").replace("@", "_").lower()

settings = {prop(k): v for k, v in rendered.items() if k.startswith("KAFKA_") and k != "KAFKA_HEAP_OPTS"}
for k, v in broker_env.items():
    if settings.get(prop(k)) != v:
        problems.append(f"{prop(k)}: rendered {settings.get(prop(k))!r}, scripts/broker.env has {v!r}")

# Listeners: NAME://host:port
def listeners(s):
    return {l.split("://")[0]: l.split("://")[1] for l in s.split(",") if l}
lis, adv = listeners(settings.get("listeners", "")), listeners(settings.get("advertised.listeners", ""))
protocols = listeners(settings.get("listener.security.protocol.map", "").replace(":", "://"))
for name in lis:
    if name not in protocols:
        problems.append(f"listener {name} has no entry in listener.security.protocol.map")
host = [n for n, a in adv.items() if a == f"127.0.0.1:{port}"]
if not host:
    problems.append(f"no listener advertised at 127.0.0.1:{port} for this machine's clients")
else:
    cport = lis[host[0]].rsplit(":", 1)[1]
    published = [str(p) for p in svc.get("ports", [])]
    if f"127.0.0.1:{port}:{cport}" not in published:
        problems.append(f"port 127.0.0.1:{port} is not published to the container's {cport} ({published})")
inside = [n for n, a in adv.items() if a in ("localhost:9092", "broker:9092")]
if not inside or lis[inside[0]].rsplit(":", 1)[1] != "9092":
    problems.append("no listener on 9092 advertised as localhost:9092 inside the container "
                    "(the exercise's `docker exec broker ... --bootstrap-server localhost:9092`)")
ibl = settings.get("inter.broker.listener.name")
if ibl not in inside:
    problems.append(f"the broker's own connections ({ibl}) do not use the in-container listener")
if svc.get("container_name") != "broker":
    problems.append("the container must be named broker: the exercise's commands use it")
hc = svc.get("healthcheck", {}).get("test")
if not hc or "9092" not in " ".join(hc if isinstance(hc, list) else [hc]):
    problems.append("no healthcheck asking the broker on 9092: `docker compose up --wait` cannot wait")

for k in sorted(settings):
    print(f"{k}={settings[k]}")
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
