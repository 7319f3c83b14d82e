#include "cli/expiry.hpp"
