// Boost.Process v2 in Boost 1.81 does not link header-only (undefined on_setup and
// find_executable): it is compiled separately, here, exactly once (NOTES.md).
#include <boost/process/v2/src.hpp>
