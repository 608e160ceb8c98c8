#!/usr/bin/env python3
"""The anchor of tests/bench/tasks_to_parts_bench.sh: the seed runbook's approach (001_*.txt,
Django management commands migrate_tasks_to_parts + migrate_job_costs) as plain psycopg2, row by
row: per task a few lookups, the part, the operation, its timers and a commit; then every cost row
on its own. Same rules as the spec (rejects are counted, not recorded). Usage: URL"""
import sys
import psycopg2

PT = "PT-"


def main(url):
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    cur.execute("SELECT id FROM django_content_type WHERE app_label='machining' AND model='task'")
    ct_task = cur.fetchone()[0]
    cur.execute("SELECT id FROM django_content_type WHERE app_label='tasks' AND model='operation'")
    ct_op = cur.fetchone()[0]
    # makemigrations/migrate of the runbook's phase 2
    cur.execute("ALTER TABLE tasks_part ADD COLUMN IF NOT EXISTS task_key varchar(255) UNIQUE")
    cur.execute("""CREATE TABLE IF NOT EXISTS tasks_partcostagg (part_id varchar(255) PRIMARY KEY
        REFERENCES tasks_part(key) ON DELETE CASCADE, job_no varchar(100), currency varchar(3) NOT NULL,
        hours_ww numeric(12,4), hours_ah numeric(12,4), hours_su numeric(12,4), cost_ww numeric(18,2),
        cost_ah numeric(18,2), cost_su numeric(18,2), total_cost numeric(18,2), updated_at timestamptz NOT NULL)""")
    cur.execute("""CREATE TABLE IF NOT EXISTS tasks_partcostagguser (id bigserial PRIMARY KEY,
        part_id varchar(255) NOT NULL REFERENCES tasks_part(key) ON DELETE CASCADE,
        user_id integer NOT NULL REFERENCES auth_user(id), currency varchar(3) NOT NULL,
        hours_ww numeric(12,4), hours_ah numeric(12,4), hours_su numeric(12,4), cost_ww numeric(18,2),
        cost_ah numeric(18,2), cost_su numeric(18,2), total_cost numeric(18,2), updated_at timestamptz NOT NULL,
        UNIQUE (part_id, user_id))""")
    cur.execute("""CREATE TABLE IF NOT EXISTS tasks_partcostrecalcqueue (part_id varchar(255) PRIMARY KEY
        REFERENCES tasks_part(key) ON DELETE CASCADE, enqueued_at timestamptz NOT NULL DEFAULT now())""")
    conn.commit()

    def user_or_none(uid):
        if uid is None:
            return None
        cur.execute("SELECT id FROM auth_user WHERE id = %s", (uid,))
        return uid if cur.fetchone() else None

    cur.execute("SELECT key FROM machining_task ORDER BY key COLLATE \"C\"")
    keys = [r[0] for r in cur.fetchall()]
    print(f"Found {len(keys)} tasks to migrate", flush=True)
    migrated = skipped = 0
    for i, key in enumerate(keys, 1):
        part_key = PT + key
        cur.execute("SELECT name, job_no, image_no, position_no, quantity, description, machine_fk_id, "
                    "estimated_hours, in_plan, plan_order, planned_start_ms, planned_end_ms, completion_date, "
                    "completed_by_id, created_by_id, created_at FROM machining_task WHERE key = %s", (key,))
        t = cur.fetchone()
        cur.execute("SELECT 1 FROM tasks_part WHERE key = %s OR task_key = %s", (part_key, key))
        part_taken = cur.fetchone() is not None
        cur.execute("SELECT 1 FROM tasks_operation WHERE key = %s", (key,))
        op_taken = cur.fetchone() is not None
        if len(part_key) > 255 or part_taken or op_taken:
            skipped += 1
            conn.rollback()
            continue
        completed_by, created_by = user_or_none(t[13]), user_or_none(t[14])
        cur.execute("INSERT INTO tasks_part (key, task_key, name, job_no, image_no, position_no, quantity, "
                    "description, completion_date, completed_by_id, created_by_id, created_at) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (part_key, key, t[0], t[1], t[2], t[3], t[4], t[5], t[12], completed_by, created_by, t[15]))
        cur.execute("INSERT INTO tasks_operation (key, part_id, name, \"order\", machine_fk_id, estimated_hours, "
                    "in_plan, plan_order, planned_start_ms, planned_end_ms, completion_date, completed_by_id, "
                    "created_by_id, created_at) VALUES (%s,%s,%s,1,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (key, part_key, t[0], t[6], t[7], t[8], t[9], t[10], t[11], t[12], completed_by, created_by, t[15]))
        cur.execute("UPDATE tasks_timer SET content_type_id = %s WHERE content_type_id = %s AND object_id = %s",
                    (ct_op, ct_task, key))
        cur.execute("INSERT INTO tasks_partcostrecalcqueue (part_id) VALUES (%s) ON CONFLICT DO NOTHING", (part_key,))
        conn.commit()
        migrated += 1
        if i % 100 == 0:
            print(f"Progress: {i}/{len(keys)} migrated {migrated}, skipped {skipped}", flush=True)
    print(f"MIGRATION COMPLETE: total {len(keys)}, migrated {migrated}, skipped {skipped}", flush=True)

    cur.execute("SELECT task_id FROM machining_jobcostagg")
    done = 0
    for (task_id,) in cur.fetchall():
        cur.execute("SELECT key FROM tasks_part WHERE task_key = %s", (task_id,))
        p = cur.fetchone()
        if p is None:
            continue
        cur.execute("SELECT job_no, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su, total_cost, "
                    "updated_at FROM machining_jobcostagg WHERE task_id = %s", (task_id,))
        j = cur.fetchone()
        cur.execute("INSERT INTO tasks_partcostagg VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                    (p[0],) + j)
        conn.commit()
        done += 1
    print(f"JobCostAgg: Migrated {done}", flush=True)
    cur.execute("SELECT id FROM machining_jobcostagguser")
    done = 0
    for (cid,) in cur.fetchall():
        cur.execute("SELECT task_id, user_id, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su, "
                    "total_cost, updated_at FROM machining_jobcostagguser WHERE id = %s", (cid,))
        j = cur.fetchone()
        cur.execute("SELECT key FROM tasks_part WHERE task_key = %s", (j[0],))
        p = cur.fetchone()
        if p is None or user_or_none(j[1]) is None:
            conn.rollback()
            continue
        cur.execute("INSERT INTO tasks_partcostagguser (part_id, user_id, currency, hours_ww, hours_ah, hours_su, "
                    "cost_ww, cost_ah, cost_su, total_cost, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                    "ON CONFLICT DO NOTHING", (p[0],) + j[1:])
        conn.commit()
        done += 1
    print(f"JobCostAggUser: Migrated {done}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
