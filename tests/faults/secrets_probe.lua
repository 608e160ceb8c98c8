-- A migration that prints the application_name of every session on its database while it runs
-- (tests/faults/secrets_password.sh: the password must not be in any of them).
local migration = require "mighost.migration"
return migration.define {
  name = "secrets_probe",
  setup = function(ctx)
    ctx:say("APPS %s", ctx.db:scalar([[SELECT string_agg(application_name, ' | ' ORDER BY pid) FROM pg_stat_activity
                                       WHERE datname = current_database()]]))
  end,
}:main()
