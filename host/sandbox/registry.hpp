#pragma once
/// \file
/// Internal: the process-wide list of live clusters behind stop_all().

namespace mighost::sandbox {
class cluster;
namespace detail {
/// Adds a cluster that stop_all() must stop; called once the temp dir exists.
void register_cluster(cluster* c) noexcept;
/// Removes it again; called by the destructor (or a failing constructor) before stop().
void unregister_cluster(cluster* c) noexcept;
}  // namespace detail
}  // namespace mighost::sandbox
