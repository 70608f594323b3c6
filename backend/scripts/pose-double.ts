/**
 * The pose-service TEST DOUBLE (test/support/fakePoseService.ts) as its own process, for the load check: its ffmpeg
 * work (probe, rendition, poster) then runs outside the measured API and load-generator processes.
 * Prints `pose-double listening at <url>`; stops on SIGTERM.
 */
import { FakePoseService } from '../test/support/fakePoseService.js';

const pose = await new FakePoseService().start();
console.log(`pose-double listening at ${pose.url}`);
process.on('SIGTERM', () => void pose.stop().then(() => process.exit(0)));
