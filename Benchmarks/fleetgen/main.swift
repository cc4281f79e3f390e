print("bring-up")
