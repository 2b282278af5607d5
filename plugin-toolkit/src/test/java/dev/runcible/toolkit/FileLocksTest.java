package dev.runcible.toolkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real processes, two threads each, crossing two file locks: the pattern for which Linux answers a blocking
 * POSIX lock with EDEADLK although nothing is deadlocked.
 */
class FileLocksTest {
    @TempDir
    Path dir;

    /** The other process: locks Y, says so, then waits for X in a second thread; releases both when it has X. */
    public static final class OtherProcess {
        public static void main(String[] args) throws Exception {
            try (FileChannel y = open(Path.of(args[1])); FileLock heldY = y.lock()) {
                System.out.println("holding Y");
                System.out.flush();
                Thread waiter = new Thread(() -> {
                    try (FileChannel x = open(Path.of(args[0])); FileLock heldX = FileLocks.exclusive(x)) {
                        System.out.println("got X");
                    } catch (IOException e) {
                        System.out.println("failed: " + e.getMessage());
                    }
                });
                waiter.start();
                waiter.join();
            }
        }
    }

    private static FileChannel open(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /** The other process, once it holds Y and its second thread is blocked on X (which this process holds). */
    private record Other(Process process, BufferedReader out) {
        static Other startedAndWaitingForX(Path x, Path y) throws Exception {
            Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), OtherProcess.class.getName(), x.toString(),
                    y.toString()).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("holding Y");
            Thread.sleep(300);
            return new Other(process, out);
        }

        /** After X is released: the other process got X and ended. */
        void assertGotXAndEnded() throws Exception {
            assertThat(out.readLine()).isEqualTo("got X");
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void crossedWaitsBetweenThreadsOfTwoProcessesEndWithBothLocksTaken() throws Exception {
        Path x = dir.resolve("x.lock");
        Path y = dir.resolve("y.lock");
        try (FileChannel xChannel = open(x)) {
            FileLock heldX = xChannel.lock();
            Other other = Other.startedAndWaitingForX(x, y);
            // This thread now waits for Y while another thread of this process holds X: the kernel sees a cycle.
            CompletableFuture<Boolean> gotY = CompletableFuture.supplyAsync(() -> {
                try (FileChannel yChannel = open(y); FileLock heldY = FileLocks.exclusive(yChannel)) {
                    return heldY.isValid();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300);
            heldX.release(); // the holder of X was only working: once it is done, both sides go on
            assertThat(gotY.get(30, TimeUnit.SECONDS)).isTrue();
            other.assertGotXAndEnded();
        }
    }

    @Test
    void thePlainBlockingLockReportsThisPatternAsADeadlock() throws Exception {
        // The kernel behaviour the helper exists for; if a kernel stops reporting it, this test says so.
        Path x = dir.resolve("x.lock");
        Path y = dir.resolve("y.lock");
        try (FileChannel xChannel = open(x)) {
            FileLock heldX = xChannel.lock();
            Other other = Other.startedAndWaitingForX(x, y);
            try (FileChannel yChannel = open(y)) {
                assertThatThrownBy(yChannel::lock).isInstanceOf(IOException.class)
                        .satisfies(e -> assertThat(FileLocks.isDeadlockReport((IOException) e)).isTrue());
            }
            heldX.release();
            other.assertGotXAndEnded();
        }
    }
}
