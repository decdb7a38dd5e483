# Embeds a text file (INPUT) as `const char* SYMBOL()` in OUTPUT, so that the
# binary serves it wherever it is started from.
file(READ "${INPUT}" text)
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by http/embed_file.cmake.\nnamespace hitl {\nconst char* ${SYMBOL}() {\n  return R\"hitl_embed(${text})hitl_embed\";\n}\n} // namespace hitl\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
