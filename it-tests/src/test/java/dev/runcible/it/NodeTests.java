package dev.runcible.it;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

/**
 * Shared set-up for node tests: the Docker engine must answer and the node image must exist. Without a Docker
 * engine the tests are skipped, saying why; where RUNCIBLE_REQUIRE_ROOT_TESTS=1 (CI) they fail instead.
 */
abstract class NodeTests {
    static void requireDocker() throws Exception {
        boolean available;
        try {
            available = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            available = false;
        }
        if (!available) {
            String message = "No Docker engine answers; the node tests need one (start dockerd; .ci/run does)";
            if ("1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        NodeImage.ensureBuilt();
    }
}
