#include "common/message.h"

namespace sluice {

const char* ActionName(Action action) {
  switch (action) {
    case Action::kInsert:
      return "insert";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
    case Action::kRead:
      return "read";
    case Action::kTruncate:
      return "truncate";
  }
  return "insert";
}

}  // namespace sluice
