package dev.runcible.core.container;

import dev.runcible.api.RuncibleException;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.mount.LayerMounts;
import java.nio.file.Files;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node collects: containers left half-made (a record, no supervisor, no thread creating them), and layer
 * mounts no container uses beyond the most recently used ones kept for the next launch.
 */
final class NodeCollection {
    private static final Logger LOG = LoggerFactory.getLogger(NodeCollection.class);

    private final RunDirectory runDir;
    private final ContainerStates states;
    private final ContainerRemoval removal;
    private final LayerMounts layerMounts;

    NodeCollection(RunDirectory runDir, ContainerStates states, ContainerRemoval removal, LayerMounts layerMounts) {
        this.runDir = runDir;
        this.states = states;
        this.removal = removal;
        this.layerMounts = layerMounts;
    }

    /**
     * Removes containers that were left half-made: by a launcher killed mid-launch, or by one that lives on and gave
     * up on them. Caller holds the lock. Returns how many went.
     */
    int removeHalfMade(List<ContainerInfo> containers) throws RuncibleException {
        int removed = 0;
        for (ContainerInfo info : containers) {
            ContainerFiles files = runDir.container(info.record().id());
            if (info.state() == ContainerState.CREATED && !Files.exists(files.shimPid())
                    && !Creations.inProgress(info.record(), files)) {
                LOG.warn("Removing container {}: its launcher stopped creating it before starting it",
                        info.record().shortId());
                removal.dismantle(info.record(), files);
                removal.forget(info.record(), files);
                removed++;
            }
        }
        return removed;
    }

    /**
     * Half-made containers, and layer mounts that no container uses beyond the {@code keep} most recently used
     * ones (mounts whose cached file was evicted go first: they can serve nobody new). Never a mount in use.
     */
    ContainerManager.Collected collect(int keep) throws RuncibleException {
        // Exited containers whose launcher died before it handled the exit, and whose exit hook did not run.
        int exited = 0;
        for (ContainerInfo info : states.list()) {
            if (info.state() == ContainerState.EXITED
                    && removal.exited(info.record(), runDir.container(info.record().id()), false)) {
                exited++;
            }
        }
        int released = exited;
        return runDir.locked(() -> {
            int halfMade = removeHalfMade(states.list());
            return new ContainerManager.Collected(halfMade, layerMounts.trim(removal.referencedLayers(), keep),
                    released);
        });
    }
}
