#pragma once
/// @file A JUnit XML report of named steps, for CI test runners.
#include <string>
#include <vector>

namespace mighost::cli {

/// Collects steps and writes them as one <testsuite>.
class junit_report
{
public:
  void add(const std::string& name, double seconds, const std::string& failure)
  {
    m_steps.push_back({name, seconds, failure});
  }
  int size() const noexcept { return static_cast<int>(m_steps.size()); }
  int failures() const noexcept;
  /// Writes the XML file; throws std::runtime_error naming the path if it cannot.
  void write(const std::string& path, const std::string& suite) const;

private:
  struct step
  {
    std::string name;
    double seconds;
    std::string failure;  ///< "" = passed
  };
  std::vector<step> m_steps;
};

} // namespace mighost::cli
