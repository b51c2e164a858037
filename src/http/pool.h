// A small pool of clients that are not thread-safe (a hiredis connection, a
// rabbitmq-c publisher), so each HTTP handler thread borrows one at a time.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace txguard {

template <typename T>
class Pool {
 public:
  explicit Pool(std::function<std::unique_ptr<T>()> factory) : factory_(std::move(factory)) {}

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}
    ~Lease() {
      if (item_) pool_.giveBack(std::move(item_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    T& operator*() { return *item_; }
    T* operator->() { return item_.get(); }
    // Drops the client instead of returning it, after an error left it in
    // an unknown state.
    void discard() { item_.reset(); }
    // Drops the client and makes a new one in its place.
    void renew() {
      item_.reset();
      item_ = pool_.factory_();
    }

   private:
    Pool& pool_;
    std::unique_ptr<T> item_;
  };

  // Borrows an idle client or makes a new one (outside the lock, because
  // making one may connect).
  Lease acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<T> item = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(item));
      }
    }
    return Lease(*this, factory_());
  }

 private:
  void giveBack(std::unique_ptr<T> item) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(item));
  }

  std::function<std::unique_ptr<T>()> factory_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> idle_;
};

}  // namespace txguard
