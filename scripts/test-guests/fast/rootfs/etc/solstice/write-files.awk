# Writes the `write_files` entries of a #cloud-config user-data, as cloud-init
# would, for the subset a CI seed uses: path, content (literal block `|`/`|-`,
# or a single-line value), permissions, encoding (b64), append. Prints each
# path written. Not a YAML parser: a best effort over the usual layout.
function indent_of(s) { match(s, /^ */); return RLENGTH }
function unquote(v) {
  sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
  if (v ~ /^'.*'$/ || v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
  return v
}
function shq(s) { gsub(/'/, "'\\''", s); return "'" s "'" }
function flush(   dir, tmp, cmd) {
  if (path != "") {
    dir = path; sub(/\/[^\/]*$/, "", dir)
    if (dir != "") system("mkdir -p " shq(dir))
    if (block && chomp != "-" && content != "") content = content "\n"
    if (encoding ~ /^(b64|base64)$/) {
      tmp = (ENVIRON["TMPDIR"] != "" ? ENVIRON["TMPDIR"] : "/tmp") "/.write-files.b64"
      printf "%s", content > tmp; close(tmp)
      cmd = "base64 -d " shq(tmp) (append ? " >> " : " > ") shq(path)
      system(cmd); system("rm -f " shq(tmp))
    } else if (append) {
      printf "%s", content >> path; close(path)
    } else {
      printf "%s", content > path; close(path)
    }
    if (perms != "") system("chmod " shq(perms) " " shq(path))
    print path
  }
  path = ""; content = ""; perms = ""; encoding = ""; append = 0; block = 0; inblock = 0; chomp = ""; bindent = -1
}
BEGIN { inwf = 0; path = ""; bindent = -1 }
{
  line = $0
  if (inblock) {
    if (line ~ /^[ \t]*$/) { if (started) blanks = blanks "\n"; next }
    ind = indent_of(line)
    if (ind > keyindent) {
      if (bindent < 0) bindent = ind
      content = content (started ? "\n" : "") blanks substr(line, bindent + 1)
      blanks = ""; started = 1
      next
    }
    inblock = 0; blanks = ""
  }
  if (line ~ /^write_files:[ \t]*$/) { inwf = 1; next }
  if (!inwf) next
  if (line ~ /^[^ \t#-]/) { flush(); inwf = 0; next }
  if (line ~ /^[ \t]*(#.*)?$/) next
  if (line ~ /^[ ]*- /) {
    flush()
    sub(/-/, " ", line)
  }
  ind = indent_of(line)
  rest = substr(line, ind + 1)
  if (match(rest, /^[A-Za-z_]+:/)) {
    key = substr(rest, 1, RLENGTH - 1)
    val = substr(rest, RLENGTH + 1)
    keyindent = ind
    if (key == "path") path = unquote(val)
    else if (key == "permissions") perms = unquote(val)
    else if (key == "encoding") encoding = unquote(val)
    else if (key == "append") append = (unquote(val) == "true")
    else if (key == "content") {
      v = unquote(val)
      if (v ~ /^[|>][-+]?$/) { block = 1; inblock = 1; chomp = substr(v, 2, 1); content = ""; blanks = ""; started = 0; bindent = -1 }
      else { block = 0; content = v }
    }
  }
}
END { flush() }
