package dev.runcible.core.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Copies what a container writes to its log files onto this process's stdout and stderr as it arrives. */
final class LogFollower {
    private final Source out;
    private final Source err;

    LogFollower(Path stdout, Path stderr, PrintStream outStream, PrintStream errStream) {
        this.out = new Source(stdout, outStream);
        this.err = new Source(stderr, errStream);
    }

    /** Copies what is new in both files. */
    void pump() {
        out.pump();
        err.pump();
    }

    private static final class Source {
        private final Path file;
        private final OutputStream target;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        private long position;

        Source(Path file, OutputStream target) {
            this.file = file;
            this.target = target;
        }

        void pump() {
            if (!Files.exists(file)) {
                return;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                channel.position(position);
                boolean wrote = false;
                while (true) {
                    buffer.clear();
                    int n = channel.read(buffer);
                    if (n <= 0) {
                        break;
                    }
                    target.write(buffer.array(), 0, n);
                    position += n;
                    wrote = true;
                }
                if (wrote) {
                    target.flush();
                }
            } catch (IOException e) {
                // The file may be removed with its container; there is nothing left to copy.
            }
        }
    }
}
