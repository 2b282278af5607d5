package dev.runcible.core.cli;

import dev.runcible.api.RuncibleException;
import dev.runcible.core.container.ContainerManager;
import java.util.List;
import sun.misc.Signal;

/**
 * Passes INT, TERM and HUP sent to a foreground {@code runcible run} on to its container, as docker's sig-proxy
 * does; the launcher keeps waiting and exits with the container's code.
 */
final class SignalForwarding {
    private SignalForwarding() {
    }

    static void install(ContainerManager containers, String id) {
        for (String name : List.of("INT", "TERM", "HUP")) {
            try {
                Signal.handle(new Signal(name), signal -> {
                    try {
                        containers.kill(id, name);
                    } catch (RuncibleException e) {
                        System.err.println("runcible: " + e.getMessage());
                    }
                });
            } catch (IllegalArgumentException e) {
                // The JVM reserves this signal here; leave its default.
            }
        }
    }
}
