local helper = require "cli_helper"
print(helper.greet("script"))
