// Node 20 lacks Promise.withResolvers (Node >= 22), which the libp2p helpers it-queue and mortice
// call on start and stop. This must be the first module the node script imports.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
