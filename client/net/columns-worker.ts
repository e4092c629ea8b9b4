/**
 * The history requests' worker: /api/columns in the packed form is fetched, decoded and checked
 * here (a day of roll-ups is millions of counts to check, tens of ms in one task), off the page's
 * main thread, and its arrays are handed over without a copy (their one buffer is transferred).
 */
import { serveColumns, type ColumnsServerPort } from './history.ts';

serveColumns(self as unknown as ColumnsServerPort);
