local log = require "mighost.log"
log.info("hello from %s at %d", "cli_log", 42)
log.debug("a debug line")
