#!/usr/bin/env python3
"""The row-by-row anchor of tests/bench/rds_mapping_bench.sh: seed 004's approach (migrate_rds_simple.py:
read each legacy table, map the fields in Python, insert the rows one by one into the new schema)
as plain psycopg2, with the spec's rules so that it writes the same rows: per row the field
mapping, the reject rules (duplicates and references looked up in the target, one query each)
and one INSERT; a commit every 1000 rows. Rejects and fixups are counted, not recorded. The
target tables exist already (created from the script's DDL by the bench). Canonical column
names only (the bench's generated fixture). Usage: SOURCE_URL TARGET_URL"""
import sys
import psycopg2

TABLES = ["user", "bag", "bill", "scan", "link", "bill_bag", "promotionrequest", "audit_log"]


def blank(v):
    return v is None or str(v).strip() == ""


def main(src_url, tgt_url):
    src = psycopg2.connect(src_url)
    src.set_session(readonly=True, isolation_level="REPEATABLE READ")
    tgt = psycopg2.connect(tgt_url)
    cur = tgt.cursor()
    rejected = fixups = written = pending = 0

    def exists(table, key):
        if key is None:
            return False
        cur.execute('SELECT 1 FROM "%s" WHERE id = %%s' % table, (key,))
        return cur.fetchone() is not None

    def taken(table, where, args):
        cur.execute('SELECT 1 FROM "%s" WHERE %s' % (table, where), args)
        return cur.fetchone() is not None

    def ref(table, key):
        nonlocal fixups
        if key is None or exists(table, key):
            return key
        fixups += 1
        return None

    def insert(table, row):
        nonlocal written, pending
        cols = list(row)
        cur.execute('INSERT INTO "%s" (%s) VALUES (%s) ON CONFLICT (id) DO NOTHING'
                    % (table, ", ".join('"%s"' % c for c in cols), ", ".join(["%s"] * len(cols))),
                    [row[c] for c in cols])
        written += cur.rowcount
        pending += 1
        if pending >= 1000:
            tgt.commit()
            pending = 0

    def rows(table):
        c = src.cursor(name="read_" + table)
        c.itersize = 5000
        c.execute('SELECT * FROM "%s" ORDER BY id' % table)
        names = None
        for r in c:
            names = names or [d[0] for d in c.description]
            yield dict(zip(names, r))
        c.close()

    late_parents = []
    for table in TABLES:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", ('"%s"' % table,))
        s = src.cursor()
        s.execute("SELECT to_regclass(%s) IS NOT NULL", ('"%s"' % table,))
        if not s.fetchone()[0]:
            continue
        for r in rows(table):
            if table == "user":
                u = r["username"]
                if blank(u) or len(u) > 64 or taken("user", "username = %s", (u,)):
                    rejected += 1
                    continue
                role = (r.get("role") or "").strip().lower()
                insert("user", {"id": r["id"], "username": u, "email": r.get("email"),
                                "password_hash": "!" if blank(r.get("password_hash")) else r["password_hash"],
                                "role": role if role in ("admin", "biller", "dispatcher") else "dispatcher",
                                "dispatch_area": r.get("dispatch_area"), "verified": bool(r.get("verified")),
                                "created_at": r.get("created_at")})
            elif table == "bag":
                q = r["qr_id"]
                if blank(q) or len(q) > 255 or taken("bag", "qr_id = %s", (q,)):
                    rejected += 1
                    continue
                t = (r.get("type") or "").strip().lower()
                if t not in ("parent", "child"):
                    t = "child" if r.get("parent_id") is not None else "parent"
                parent = r.get("parent_id")
                if parent is not None and (parent == r["id"] or not exists("bag", parent)):
                    if parent != r["id"]:
                        late_parents.append((r["id"], parent))   # may come later: second pass
                    else:
                        fixups += 1
                    parent = None
                insert("bag", {"id": r["id"], "qr_id": q, "type": t, "name": r.get("name"),
                               "child_count": r.get("child_count") or 0, "parent_id": parent,
                               "user_id": ref("user", r.get("user_id")), "dispatch_area": r.get("dispatch_area"),
                               "status": r.get("status") or "pending", "weight_kg": r.get("weight_kg") or 0,
                               "created_at": r.get("created_at")})
            elif table == "bill":
                b = r["bill_id"]
                if blank(b) or len(b) > 50 or taken("bill", "bill_id = %s", (b,)):
                    rejected += 1
                    continue
                insert("bill", {"id": r["id"], "bill_id": b, "description": r.get("description"),
                                "parent_bag_count": r.get("parent_bag_count") or 0, "status": r.get("status") or "new",
                                "created_by_id": ref("user", r.get("created_by_id")), "created_at": r.get("created_at")})
            elif table == "scan":
                if r["timestamp"] is None:
                    rejected += 1
                    continue
                insert("scan", {"id": r["id"], "timestamp": r["timestamp"],
                                "parent_bag_id": ref("bag", r.get("parent_bag_id")),
                                "child_bag_id": ref("bag", r.get("child_bag_id")), "user_id": ref("user", r.get("user_id"))})
            elif table == "link":
                p, c = r["parent_bag_id"], r["child_bag_id"]
                if not exists("bag", p) or not exists("bag", c) or p == c or \
                        taken("link", "parent_bag_id = %s AND child_bag_id = %s", (p, c)):
                    rejected += 1
                    continue
                insert("link", {"id": r["id"], "parent_bag_id": p, "child_bag_id": c,
                                "user_id": ref("user", r.get("user_id")), "created_at": r.get("created_at")})
            elif table == "bill_bag":
                b, g = r["bill_id"], r["bag_id"]
                if not exists("bill", b) or not exists("bag", g) or \
                        taken("bill_bag", "bill_id = %s AND bag_id = %s", (b, g)):
                    rejected += 1
                    continue
                insert("bill_bag", {"id": r["id"], "bill_id": b, "bag_id": g, "created_at": r.get("created_at")})
            elif table == "promotionrequest":
                if not exists("user", r.get("user_id")) or blank(r.get("requested_role")):
                    rejected += 1
                    continue
                insert("promotionrequest", {"id": r["id"], "user_id": r["user_id"], "requested_role": r["requested_role"],
                                            "reason": r.get("reason"), "status": r.get("status") or "pending",
                                            "admin_id": ref("user", r.get("admin_id")), "admin_notes": r.get("admin_notes"),
                                            "requested_at": r.get("requested_at"), "processed_at": r.get("processed_at")})
            elif table == "audit_log":
                if r["action"] is None:
                    rejected += 1
                    continue
                insert("audit_log", {"id": r["id"], "timestamp": r["timestamp"], "user_id": ref("user", r.get("user_id")),
                                     "action": r["action"], "entity_type": r.get("entity_type"),
                                     "entity_id": r.get("entity_id"), "details": r.get("details"),
                                     "ip_address": r.get("ip_address")})
        tgt.commit()
        pending = 0
        if table == "bag":   # the parents that came after their children
            for bag_id, parent in late_parents:
                if exists("bag", parent) and exists("bag", bag_id):
                    cur.execute("UPDATE bag SET parent_id = %s WHERE id = %s", (parent, bag_id))
                else:
                    fixups += 1
            tgt.commit()
        print("%s done: written %d, rejected %d, fixups %d" % (table, written, rejected, fixups), flush=True)
    for bill_id, in list(iter_ids(tgt, "bill")):
        cur.execute("""UPDATE bill SET total_weight_kg = (SELECT COALESCE(sum(g.weight_kg), 0) FROM bill_bag bb
                       JOIN bag g ON g.id = bb.bag_id WHERE bb.bill_id = %s) WHERE id = %s""", (bill_id, bill_id))
    for table in TABLES:
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), m) FROM (SELECT max(id) AS m FROM \"%s\") x"
                    " WHERE m IS NOT NULL" % ("%s", table), ('"%s"' % table,))
    tgt.commit()
    print("written %d, rejected %d, fixups %d" % (written, rejected, fixups))


def iter_ids(conn, table):
    c = conn.cursor()
    c.execute('SELECT id FROM "%s" ORDER BY id' % table)
    return c.fetchall()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
