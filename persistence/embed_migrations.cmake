# Turns schema/NNN_name.sql into a C++ table of migrations, so that the
# binary carries its schema and never looks for it relative to the cwd.
# schema/current.sql is not one: it is what they leave (schema/dump-current).
file(GLOB files "${SCHEMA_DIR}/*.sql")
list(FILTER files EXCLUDE REGEX "/current\\.sql$")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  if(NOT name MATCHES "^([0-9]+)_")
    message(FATAL_ERROR "migration ${f}: name must start with a number")
  endif()
  set(version "${CMAKE_MATCH_1}")
  math(EXPR version "${version} + 0")
  file(READ "${f}" sql)
  string(APPEND body "  {${version}, \"${name}\", R\"hitl_sql(${sql})hitl_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from schema/*.sql by persistence/embed_migrations.cmake.\n#include \"persistence/migrations.hpp\"\n\nnamespace hitl {\n\nconst std::vector<migration>& embedded_migrations() {\n  static const std::vector<migration> all{\n${body}  };\n  return all;\n}\n\n} // namespace hitl\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
