//! The embedded engine acknowledges a write only once it is on disk: a process killed in the
//! middle of a stream of messages keeps every message it answered 201 to, in order, without
//! gaps.

use std::collections::BTreeMap;

use serde_json::json;

use crate::cluster::Node;
use crate::helpers::*;

#[tokio::test]
async fn a_killed_process_keeps_every_message_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let serve = || Node::serve(vec!["--data-dir".into(), dir.path().into()]);
    let mut node = serve();
    // The helpers of an in-process app, pointed at the process.
    let helper = TestApp::spawn(Backend::Sqlite).await;
    let app = helper.through(&node.base);
    let owner = app.setup().await;
    let bot = app.shop_bot(&owner).await;
    let mut visitors = vec![];
    for _ in 0..12 {
        visitors.push(app.visitor(&bot).await);
    }

    // Every visitor writes as fast as answers come, so the writer batches them; each answer
    // received is recorded. The process is killed once enough have been answered.
    let (acked_tx, mut acked) = tokio::sync::mpsc::unbounded_channel::<(usize, String)>();
    let mut writers = vec![];
    for (i, v) in visitors.iter().enumerate() {
        let (app, auth, acked_tx) = (app.through(&node.base), v.auth.clone(), acked_tx.clone());
        writers.push(tokio::spawn(async move {
            let v = Visitor { auth };
            for n in 0..40 {
                let r = v.post(&app, "/api/widget/messages", json!({"body": format!("v{i} m{n}")})).await;
                if r.status != 201 {
                    break;
                }
                let _ = acked_tx.send((i, r.body["id"].as_str().unwrap().to_string()));
            }
        }));
    }
    drop(acked_tx);
    let mut answered: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut count = 0;
    while count < 150 {
        let Some((i, id)) = acked.recv().await else { break };
        answered.entry(i).or_default().push(id);
        count += 1;
    }
    node.child.kill().expect("SIGKILL");
    let _ = node.child.wait();
    for w in writers {
        let _ = w.await;
    }
    while let Ok((i, id)) = acked.try_recv() {
        answered.entry(i).or_default().push(id);
    }
    assert!(count >= 150, "the writers were answered {count} times before the kill");

    let node = serve();
    let app = helper.through(&node.base);
    for (i, ids) in &answered {
        let conv = visitors[*i].get(&app, "/api/widget/conversation").await;
        assert_eq!(conv.status, 200, "{}", conv.body);
        let messages = conv.body["messages"].as_array().unwrap();
        let seqs: Vec<i64> = messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "visitor {i}: seqs without gaps or repeats");
        let stored: Vec<&str> = messages.iter().filter(|m| m["author"]["kind"] == "visitor").map(|m| m["id"].as_str().unwrap()).collect();
        let missing: Vec<&String> = ids.iter().filter(|id| !stored.contains(&id.as_str())).collect();
        assert!(missing.is_empty(), "visitor {i}: acknowledged but lost after the kill: {missing:?}");
        // What was acknowledged is the start of what is stored, in the same order.
        assert_eq!(&stored[..ids.len()], ids.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), "visitor {i}: order");
    }
}
