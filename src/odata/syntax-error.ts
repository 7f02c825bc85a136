/** Thrown by the parsers; `message` is written for the client and names the problem and its position. */
export class ODataSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = "ODataSyntaxError";
  }
}
