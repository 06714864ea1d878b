/** Quotes one word for a POSIX shell. */
export function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/**
 * A script shipped inline in a here-document and run with bash and the given arguments, so the same
 * text runs on this machine and over SSH, nothing is copied first, and stdin stays free.
 */
export function inlineScript(script: string, args: readonly string[], marker: string): string {
  if (script.includes(marker)) throw new Error(`script must not contain ${marker}`);
  return [
    `script=$(mktemp) && cat > "$script" <<'${marker}'`,
    script.trimEnd(),
    marker,
    `bash "$script" ${args.map(shellWord).join(" ")}; status=$?; rm -f "$script"; exit $status`,
  ].join("\n");
}
