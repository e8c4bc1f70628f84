#include "campaigns/audit.hpp"

#include <SQLiteCpp/Statement.h>

namespace loa::campaigns {

void record_audit(SQLite::Database& db, const std::string& actor, const std::string& action,
                  const std::string& subject, const std::string& detail) {
  SQLite::Statement st(db,
                       "INSERT INTO audit_log(actor, action, subject, detail) VALUES (?, ?, ?, ?)");
  st.bind(1, actor);
  st.bind(2, action);
  st.bind(3, subject);
  st.bind(4, detail);
  st.exec();
}

}  // namespace loa::campaigns
