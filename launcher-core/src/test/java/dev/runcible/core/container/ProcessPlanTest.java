package dev.runcible.core.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ImageConfig;
import dev.runcible.api.ImageReference;
import dev.runcible.core.InvalidRequestException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProcessPlanTest {
    private static ImageConfig config(List<String> entrypoint, List<String> cmd, String workdir) {
        return new ImageConfig(List.of("PATH=/opt/bin", "MODE=image"), entrypoint, cmd, Optional.ofNullable(workdir),
                Optional.empty(), Optional.empty());
    }

    private static RunRequest request(List<String> command, List<String> env) throws Exception {
        return new RunRequest(ImageReference.parse("app"), Optional.empty(), command, env,
                dev.runcible.core.runtime.Limits.NONE, List.of());
    }

    @Test
    void commandReplacesCmdAndKeepsEntrypointAsDockerDoes() throws Exception {
        ProcessPlan plan = ProcessPlan.of("app", config(List.of("/entry"), List.of("default"), "/w"),
                request(List.of("override", "x"), List.of()), "/root");
        assertThat(plan.args()).containsExactly("/entry", "override", "x");
        assertThat(plan.cwd()).isEqualTo("/w");
        ProcessPlan defaults = ProcessPlan.of("app", config(List.of("/entry"), List.of("default"), null),
                request(List.of(), List.of()), "/root");
        assertThat(defaults.args()).containsExactly("/entry", "default");
        assertThat(defaults.cwd()).isEqualTo("/");
    }

    @Test
    void environmentLayersImageDefaultsAndRequest() throws Exception {
        ProcessPlan plan = ProcessPlan.of("app", config(List.of(), List.of("sh"), null),
                request(List.of(), List.of("MODE=cli", "FROM_EDGE=h")), "/home/app");
        assertThat(plan.env()).containsExactly("PATH=/opt/bin", "MODE=cli", "HOME=/home/app", "FROM_EDGE=h");
    }

    @Test
    void aBareNameMustBeResolvedAtTheEdgeNeverFromTheLaunchersEnvironment() {
        // PATH is set in every launcher's environment: it must still not leak into a container from here.
        assertThatThrownBy(() -> ProcessPlan.of("app", config(List.of(), List.of("sh"), null),
                request(List.of(), List.of("PATH")), "/"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("'PATH' has no value");
    }

    @Test
    void rejectsMissingCommandsBadEnvAndRelativeWorkdirs() {
        assertThatThrownBy(() -> ProcessPlan.of("app", config(List.of(), List.of(), null),
                request(List.of(), List.of()), "/"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("neither Entrypoint nor Cmd");
        assertThatThrownBy(() -> ProcessPlan.of("app", config(List.of(), List.of("sh"), null),
                request(List.of(), List.of("1BAD=x")), "/"))
                .hasMessageContaining("Invalid --env '1BAD=x'");
        assertThatThrownBy(() -> ProcessPlan.of("app", config(List.of(), List.of("sh"), "rel"),
                request(List.of(), List.of()), "/"))
                .hasMessageContaining("WorkingDir 'rel'");
    }

    @Test
    void classifiesStartFailuresWithDockersExitCodes() {
        assertThat(RuncErrors.exitCode(
                "exec: \"nope\": executable file not found in $PATH")).isEqualTo(127);
        assertThat(RuncErrors.exitCode("exec: \"/etc\": permission denied")).isEqualTo(126);
        assertThat(RuncErrors.exitCode("cgroup: something else")).isEqualTo(125);
    }
}
