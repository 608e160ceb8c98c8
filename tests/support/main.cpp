/// \file
/// Catch2 runner for mighost_tests, plus the listing CTest uses to make one entry per tag group.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/sandbox.hpp"

namespace {

/// Tags that group tests: not Catch's special ones ([.], [!mayfail], ...).
std::vector<std::string> grouping_tags(const Catch::TestCase& tc) {
  std::vector<std::string> out;
  for (const auto& tag : tc.lcaseTags) {
    if (!tag.empty() && tag[0] != '.' && tag[0] != '!') out.push_back(tag);
  }
  std::sort(out.begin(), out.end());  // Catch sorts by original case; groups use lower case
  return out;
}

/// Prints "group<TAB>test spec" lines. Every visible test lands in exactly one group: the
/// alphabetically first of its tags, or "_untagged" (a tag cannot start with '_'). Specs exclude
/// earlier tags, so a test tagged [a][b] runs only in group a; hidden tests ([.]) run in none.
int print_ctest_groups() {
  std::set<std::string> all_tags, used_groups;
  const auto& tests = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  for (const auto& tc : tests) {
    if (tc.isHidden()) continue;
    auto tags = grouping_tags(tc);
    all_tags.insert(tags.begin(), tags.end());
    used_groups.insert(tags.empty() ? std::string("_untagged") : tags.front());
  }
  std::string earlier;  // "~[a]~[b]" for the tags before the current one
  for (const auto& tag : all_tags) {
    if (used_groups.count(tag)) std::cout << tag << '\t' << "[" << tag << "]" << earlier << "~[.]\n";
    earlier += "~[" + tag + "]";
  }
  if (used_groups.count("_untagged")) std::cout << "_untagged\t" << earlier << "~[.]\n";
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc == 2 && std::string_view(argv[1]) == "--mighost-ctest-groups") return print_ctest_groups();
  int rc = Catch::Session().run(argc, argv);
  mighost::sandbox::stop_all();  // explicit, before static destructors: nothing left behind
  return rc;
}
