package dev.runcible.core.container;

import dev.runcible.core.cgroup.ContainerCgroups;
import dev.runcible.core.mount.LayerMounts;
import dev.runcible.core.mount.Mounter;
import dev.runcible.core.runtime.Runc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The supervisor's exit hook: when a container exits and no launcher waits on it (run {@code -d}, or its launcher
 * or agent died), the shim starts this small program, which releases the container's mounts, or removes it for
 * {@code --rm} ({@link ContainerRemoval#exited}). Its arguments name all it needs (the run directory, the container,
 * how many layer mounts to keep, runc), so it reads no configuration.
 */
public final class ExitRelease {
    /** This JVM's java program, looked up once (ProcessHandle reads /proc and the user database every time). */
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    private ExitRelease() {
    }

    /**
     * The hook as a shell command line for the shim: this JVM's java and class path, started small (serial GC, C1
     * only), since it runs once and briefly.
     */
    static String hook(RunDirectory runDir, String id, int keepLayerMounts, Path runc) {
        List<String> command = new ArrayList<>(List.of(JAVA, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xshare:auto", "-Xmx64m", "-cp", System.getProperty("java.class.path"), ExitRelease.class.getName(),
                runDir.root().toString(), id, Integer.toString(keepLayerMounts), runc.toString()));
        StringBuilder line = new StringBuilder();
        for (String word : command) {
            line.append(line.isEmpty() ? "" : " ").append('\'').append(word.replace("'", "'\\''")).append('\'');
        }
        return line.toString();
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: ExitRelease RUN_DIR CONTAINER_ID KEEP_LAYER_MOUNTS RUNC");
            System.exit(2);
        }
        try {
            RunDirectory runDir = new RunDirectory(Path.of(args[0]));
            Mounter mounter = new Mounter();
            LayerMounts layers = new LayerMounts(runDir.layers(), mounter, null);
            RunDirectory.ContainerFiles files = runDir.container(args[1]);
            // Only this container's record is read; a container removed meanwhile has none.
            ContainerRecord record = ContainerStates.readRecord(files);
            if (record != null && record.id().equals(args[1])) {
                ContainerRemoval removal = new ContainerRemoval(runDir, Runc.locate(args[3], runDir.runcRoot()),
                        mounter, layers, new ContainerStates(runDir), new ContainerCgroups(ContainerCgroups.ROOT),
                        Integer.parseInt(args[2]));
                removal.exited(record, files, false);
            }
            System.exit(0);
        } catch (Exception | Error e) {
            System.err.println("runcible exit hook for " + args[1] + ": " + e);
            System.exit(1);
        }
    }
}
