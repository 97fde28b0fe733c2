"""Exit 0 when a service answers: `service_up.py postgres URL` or `service_up.py redis URL`."""

import sys


def main(kind, url):
    try:
        if kind == "postgres":
            import psycopg

            psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
        elif kind == "redis":
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        else:
            raise SystemExit(f"unknown service {kind}")
    except Exception as exc:  # any failure means "not up"
        print(f"{kind} at {url}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
