/**
 * Who makes a change, for whom and when: what every write path is called with, and what its audit
 * rows record. Declared with the features, the floor that carries changes out.
 */
export interface WriteContext {
  tenantId: string;
  actor: string;
  requestId: string | null;
  now: string;
}
