package dev.runcible.core.lazy;

import dev.runcible.core.host.Executables;
import dev.runcible.core.host.ProcessIdentity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** How layer server processes are started and signalled. */
final class ServerProcesses {
    private ServerProcesses() {
    }

    /** Sends a signal (TERM, or KILL when {@code force}) to a server process. */
    static void signal(ProcessIdentity server, boolean force) {
        ProcessHandle.of(server.pid()).ifPresent(process -> {
            if (force) {
                process.destroyForcibly();
            } else {
                process.destroy();
            }
        });
    }

    /** {@code setsid java ... LazyLayerServer ARGS}: a session of its own, the launcher's class path. */
    static List<String> command(String... arguments) {
        List<String> command = new ArrayList<>();
        Executables.find("setsid").ifPresent(setsid -> command.add(setsid.toString()));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-XX:+UseSerialGC", "-Xshare:auto", "-Xmx256m", "-Xss512k", "-XX:-UsePerfData"));
        Optional.ofNullable(System.getProperty("runcible.home")).ifPresent(h -> command.add("-Druncible.home=" + h));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LazyLayerServer.class.getName()));
        command.addAll(List.of(arguments));
        return command;
    }
}
