/** One problem found in a configuration file, reported with its JSON path. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  /** For a syntax error: the offending line of the file and a caret under the column. */
  readonly excerpt?: string | undefined;
}
