print("dlmsdump")
