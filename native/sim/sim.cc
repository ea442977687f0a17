#include "ctp-md-api.h"
