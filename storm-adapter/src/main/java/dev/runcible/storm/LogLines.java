package dev.runcible.storm;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;

/** Output lines to the supervisor's log with Storm's prefix, as Storm's process launcher logs them. */
final class LogLines extends OutputStream {
    private final Logger log;
    private final String prefix;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LogLines(Logger log, String prefix) {
        this.log = log;
        this.prefix = prefix;
    }

    @Override
    public void write(int b) {
        if (b == '\n') {
            flushLine();
        } else {
            line.write(b);
        }
    }

    private void flushLine() {
        if (line.size() > 0) {
            log.info("{}{}", prefix, line.toString(StandardCharsets.UTF_8));
            line.reset();
        }
    }

    @Override
    public void close() {
        flushLine();
    }
}
