package dev.runcible.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ConfigurationException;
import dev.runcible.api.PolicyViolationException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentPolicyTest {
    private static AgentPolicy policy(Map<String, String> values) throws ConfigurationException {
        Settings settings = Settings.of(values, Map.of());
        AgentPolicy policy = CoreConfig.from(settings).agent();
        settings.check();
        return policy;
    }

    @Test
    void byDefaultOnlyRootIsAdmittedAndTheSocketIsPrivate() throws Exception {
        AgentPolicy policy = policy(Map.of());
        assertThat(policy.admitsOthers()).isFalse();
        assertThat(policy.socketMode()).isEqualTo(0600);
        assertThat(policy.admits("root", 0, 0)).isTrue();
        assertThat(policy.admits("storm", 1001, 1001)).isFalse();
    }

    @Test
    void admittedUsersByNameOrUidAndTheSocketModeFollows() throws Exception {
        AgentPolicy policy = policy(Map.of(AgentPolicy.ALLOWED_USERS, "storm,4242"));
        assertThat(policy.socketMode()).isEqualTo(0666);
        assertThat(policy.admits("storm", 1001, 1001)).isTrue();
        assertThat(policy.admits("someone", 4242, 4242)).isTrue();
        assertThat(policy.admits("yarn", 1002, 1002)).isFalse();
        assertThat(policy(Map.of(AgentPolicy.ALLOWED_USERS, "storm", AgentPolicy.SOCKET_GROUP, "storm"))
                .socketMode()).isEqualTo(0660);
        assertThat(policy(Map.of(AgentPolicy.ALLOWED_GROUPS, "4243", AgentPolicy.SOCKET_MODE, "0606"))
                .socketMode()).isEqualTo(0606);
    }

    @Test
    void aPeerWhosePrimaryGroupIsAdmittedIsAdmitted() throws Exception {
        AgentPolicy policy = policy(Map.of(AgentPolicy.ALLOWED_GROUPS, "4243"));
        assertThat(policy.admits("no-such-user-here", 5000, 4243)).isTrue();
        assertThat(policy.admits("no-such-user-here", 5000, 4244)).isFalse();
    }

    @Test
    void runAsAllowsListedUidsAndRangesButNeverRoot() throws Exception {
        AgentPolicy policy = policy(Map.of(AgentPolicy.RUN_AS_USERS, "10000-19999,777"));
        assertThatCode(() -> policy.checkRunAs("c", 10000, 100, List.of())).doesNotThrowAnyException();
        assertThatCode(() -> policy.checkRunAs("c", 19999, 100, List.of(5))).doesNotThrowAnyException();
        assertThatCode(() -> policy.checkRunAs("c", 777, 777, List.of())).doesNotThrowAnyException();
        assertThatThrownBy(() -> policy.checkRunAs("c", 20000, 100, List.of()))
                .isInstanceOf(PolicyViolationException.class).hasMessageContaining("uid 20000")
                .hasMessageContaining(AgentPolicy.RUN_AS_USERS);
        assertThatThrownBy(() -> policy.checkRunAs("c", 10000, 0, List.of()))
                .isInstanceOf(PolicyViolationException.class).hasMessageContaining("gid 0");
        assertThatThrownBy(() -> policy.checkRunAs("c", 10000, 100, List.of(0)))
                .isInstanceOf(PolicyViolationException.class).hasMessageContaining("groups [0]");
        AgentPolicy any = policy(Map.of(AgentPolicy.RUN_AS_USERS, "*"));
        assertThatCode(() -> any.checkRunAs("c", 1, 1, List.of())).doesNotThrowAnyException();
        assertThatThrownBy(() -> any.checkRunAs("c", 0, 1, List.of())).isInstanceOf(PolicyViolationException.class);
        AgentPolicy none = policy(Map.of());
        assertThatThrownBy(() -> none.checkRunAs("c", 1000, 1000, List.of()))
                .isInstanceOf(PolicyViolationException.class).hasMessageContaining("[]");
    }

    @Test
    void malformedEntriesAndRootAreConfigurationErrorsNamingTheKey() {
        assertThatThrownBy(() -> policy(Map.of(AgentPolicy.ALLOWED_USERS, "root")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining(AgentPolicy.ALLOWED_USERS);
        assertThatThrownBy(() -> policy(Map.of(AgentPolicy.RUN_AS_USERS, "0-100")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("'0-100'");
        assertThatThrownBy(() -> policy(Map.of(AgentPolicy.ALLOWED_USERS, "a b")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("'a b'");
        assertThatThrownBy(() -> policy(Map.of(AgentPolicy.ALLOWED_USERS, "*")))
                .isInstanceOf(ConfigurationException.class);
        assertThatThrownBy(() -> policy(Map.of(AgentPolicy.SOCKET_MODE, "0777")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("execute");
        assertThatThrownBy(() -> policy(Map.of(AgentPolicy.SOCKET_MODE, "rw")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining(AgentPolicy.SOCKET_MODE);
        assertThatThrownBy(() -> policy(Map.of(CoreConfig.CGROUP_PARENT, "/abs")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining(CoreConfig.CGROUP_PARENT);
    }
}
