print("dlmsbench")
