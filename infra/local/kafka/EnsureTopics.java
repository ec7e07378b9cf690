// Waits for a Kafka broker and creates the missing topics, all in ONE JVM start.
// infra/local/stack runs it with Java's source-file launcher (no build step):
//   java -cp "<kafka jars>/*" EnsureTopics.java <bootstrap> <timeoutSeconds> <topic>:<partitions> ...
// Prints one line per topic; exits non-zero if the broker is not ready in time or a topic is wrong.
// The replication factor is the brokers' default.replication.factor (1 on the single node, 3 in
// the ha profile): the cluster's configuration decides, not this helper.
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public class EnsureTopics {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: EnsureTopics <bootstrap> <timeoutSeconds> <topic>:<partitions>...");
      System.exit(2);
    }
    String bootstrap = args[0];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
    Map<String, Integer> wanted = new LinkedHashMap<>();
    for (int i = 2; i < args.length; i++) {
      int colon = args[i].lastIndexOf(':');
      wanted.put(args[i].substring(0, colon), Integer.parseInt(args[i].substring(colon + 1)));
    }

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "infra-local-stack");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);

    try (Admin admin = Admin.create(props)) {
      // 1. Broker ready = it answers a metadata request.
      Set<String> existing;
      while (true) {
        try {
          existing = admin.listTopics().names().get(10, TimeUnit.SECONDS);
          break;
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            System.err.println("broker " + bootstrap + " not ready: " + e);
            System.exit(1);
          }
          Thread.sleep(500);
        }
      }

      // 2. Create what is missing (all topics in one request).
      List<NewTopic> missing = new ArrayList<>();
      for (Map.Entry<String, Integer> t : wanted.entrySet()) {
        if (!existing.contains(t.getKey())) missing.add(new NewTopic(t.getKey(), Optional.of(t.getValue()), Optional.empty()));
      }
      if (!missing.isEmpty()) {
        Map<String, org.apache.kafka.common.KafkaFuture<Void>> results = admin.createTopics(missing).values();
        for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> r : results.entrySet()) {
          try {
            r.getValue().get(30, TimeUnit.SECONDS);
            System.out.println("created " + r.getKey());
          } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
          }
        }
      }

      // 3. Verify partition counts (a topic created earlier with other settings is reported, not altered).
      // With several brokers, the one asked may not know a topic created a moment ago
      // (UnknownTopicOrPartition), or its partitions may have no leader yet: ask again until the deadline.
      Map<String, TopicDescription> described;
      while (true) {
        try {
          described = admin.describeTopics(wanted.keySet()).allTopicNames().get(30, TimeUnit.SECONDS);
          if (described.values().stream().allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null))) break;
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) throw e;
        }
        if (System.nanoTime() > deadline) {
          System.err.println("topics " + wanted.keySet() + " not described with leaders in time");
          System.exit(1);
        }
        Thread.sleep(200);
      }
      boolean ok = true;
      for (Map.Entry<String, Integer> t : wanted.entrySet()) {
        TopicDescription d = described.get(t.getKey());
        int partitions = d.partitions().size();
        int replicas = d.partitions().get(0).replicas().size();
        System.out.println("topic " + t.getKey() + " partitions=" + partitions + " replicas=" + replicas);
        if (partitions != t.getValue()) {
          System.err.println("topic " + t.getKey() + " has " + partitions + " partitions, expected " + t.getValue());
          ok = false;
        }
      }
      System.exit(ok ? 0 : 1);
    }
  }
}
