#include "cli/junit.hpp"

#include "util/private_file.hpp"

#include <fstream>
#include <stdexcept>

namespace mighost::cli {

namespace {
std::string xml_escape(const std::string& s)
{
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default:
      // XML 1.0 forbids most control characters even escaped.
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
      else out += c;
    }
  }
  return out;
}
} // namespace

int junit_report::failures() const noexcept
{
  int n = 0;
  for (const step& s : m_steps) n += s.failure.empty() ? 0 : 1;
  return n;
}

void junit_report::write(const std::string& path, const std::string& suite) const
{
  try {
    util::create_private_file(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--junit: ") + e.what());
  }
  std::ofstream out(path);
  if (!out) throw std::runtime_error("--junit: cannot write " + path);
  double total = 0;
  for (const step& s : m_steps) total += s.seconds;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
      << "  <testsuite name=\"" << xml_escape(suite) << "\" tests=\"" << m_steps.size()
      << "\" failures=\"" << failures() << "\" errors=\"0\" time=\"" << total << "\">\n";
  for (const step& s : m_steps) {
    out << "    <testcase classname=\"" << xml_escape(suite) << "\" name=\"" << xml_escape(s.name)
        << "\" time=\"" << s.seconds << "\"";
    if (s.failure.empty()) {
      out << "/>\n";
      continue;
    }
    std::string first = s.failure.substr(0, s.failure.find('\n'));
    out << ">\n      <failure message=\"" << xml_escape(first) << "\">" << xml_escape(s.failure)
        << "</failure>\n    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  if (!out) throw std::runtime_error("--junit: error writing " + path);
}

} // namespace mighost::cli
